/** Schema of `ballast:kubernetes` (the Kubernetes target). Defaults: ./defaults.ts. */
import { z } from "zod";
import { dnsLabel } from "./primitives";

export const kubernetesSchema = z.strictObject({
  namespace: dnsLabel,
  /** StorageClass of volume claims; "" uses the cluster default. */
  storageClass: z.string(),
  ingressClass: z.string().min(1, { message: 'must name the IngressClass, e.g. "traefik"' }),
  /** Deploy Traefik as the ingress controller, or rely on an existing one. */
  deployTraefik: z.boolean(),
  /** kubeconfig context; "" uses the ambient one. */
  context: z.string(),
  /** Write YAML instead of talking to a cluster (end-to-end tests only; writes Secrets in plaintext). */
  renderYamlToDirectory: z.string(),
  /** Namespace of an existing ingress controller, allowed to reach routed pods. */
  ingressControllerNamespace: dnsLabel,
  /**
   * Seconds a Deployment may go without progress before its rollout counts as failed; `pulumi up`
   * fails within it and the old ReplicaSet keeps serving (runbooks: rollback within 5 minutes).
   */
  progressDeadlineSeconds: z.number().int().min(30).max(3600),
});
