/**
 * The Kubernetes target: a pure render of the stack into Kubernetes objects
 * (`render.ts` and its parts) and a thin Pulumi apply step (`apply.ts`).
 */
import type { KubernetesConfig } from "../../config/types";
import type { StackModel } from "../../spec";
import type { RenderedFile, SecretValues, Target, TargetOutputs, TargetOwner } from "../target";
import { applyKubernetesObjects } from "./apply";
import type { KubernetesRenderConfig } from "./context";
import type { KubernetesObject } from "./objects";
import { renderKubernetesFiles, renderKubernetesObjects } from "./render";

export type { KubernetesRenderConfig } from "./context";
export type { Container, KubernetesKind, KubernetesObject, ObjectOfKind, PodTemplateSpec } from "./objects";
export { appUrl } from "./apply";
export { kubernetesYaml, renderKubernetesFiles, renderKubernetesObjects, reviewObject } from "./render";
export { redactedSecretValue } from "./secrets";

export interface KubernetesTargetOptions {
  /** HTTPS on public routes (`PlatformConfig.tls`). */
  tls: boolean;
  /**
   * ACME account e-mail. Unused by the Kubernetes objects themselves: the proxy
   * component writes it into Traefik's static configuration.
   */
  acmeEmail: string;
  /** Namespace of an existing ingress controller when `deployTraefik` is false; default `kube-system`. */
  ingressControllerNamespace?: string;
}

export class KubernetesTarget implements Target {
  readonly kind = "kubernetes" as const;
  private readonly renderConfig: KubernetesRenderConfig;

  constructor(config: KubernetesConfig, options: KubernetesTargetOptions) {
    this.renderConfig = {
      ...config,
      tls: options.tls,
      ...(options.ingressControllerNamespace !== undefined && { ingressControllerNamespace: options.ingressControllerNamespace }),
    };
  }

  /** The objects of the stack, Secret values redacted (the pure render the files are written from). */
  objects(model: StackModel): KubernetesObject[] {
    return renderKubernetesObjects(model, this.renderConfig);
  }

  /** One YAML file per object, Secret values redacted. */
  render(model: StackModel): RenderedFile[] {
    return renderKubernetesFiles(this.objects(model));
  }

  deploy(model: StackModel, secrets: SecretValues, owner: TargetOwner): TargetOutputs {
    return applyKubernetesObjects({ model, config: this.renderConfig, secrets, owner });
  }
}
