/** The Kubernetes target (`ballast:kubernetes`): namespace, storage, the public entry point, rollout bounds, KEDA, egress. */

/** Fixed node ports of the public Service with `publicService: NodePort`; 0 lets the cluster assign one. */
export interface NodePortsArgs {
  /**
   * Node port of Traefik's HTTP entry point (30000-32767, or 0); HTTP redirects to HTTPS.
   * @default 0 (the cluster assigns one)
   */
  http?: number;
  /**
   * Node port of Traefik's HTTPS entry point (30000-32767, or 0); must differ from `http`.
   * @default 0 (the cluster assigns one)
   */
  https?: number;
}

/** KEDA (https://keda.sh) installed on the cluster, for workers that scale on their queue. */
export interface KedaArgs {
  /**
   * KEDA is installed: workers with `autoscaling.queue` get a ScaledObject (keda.sh/v1alpha1) instead of a CPU HPA.
   * The operator must be allowed to read the stack's Secret (KEDA's default cluster-wide Secret access allows it).
   * @default false
   */
  enabled?: boolean;
  /**
   * Namespace where KEDA's operator runs (pods labelled `app: keda-operator`); the stack's Redis NetworkPolicy lets it connect.
   * @default "keda"
   */
  namespace?: string;
}

/** The Kubernetes target. */
export interface KubernetesArgs {
  /**
   * The application namespace (a DNS label of at most 40 characters): every object but the per-node agents', which
   * live in `<namespace>-agents`. It enforces Pod Security `restricted`.
   * @default the Pulumi project name
   */
  namespace?: string;
  /**
   * StorageClass of the volume claims; `""` uses the cluster's default class.
   * @default "" (the cluster default)
   */
  storageClass?: string;
  /**
   * Ingress class of the routes' Ingresses, for an existing controller (`deployTraefik: false`).
   * @default "traefik"
   */
  ingressClass?: string;
  /**
   * Deploy Traefik as the ingress controller (routes from its ConfigMap, no Kubernetes API access), or rely on an existing one.
   * @default true
   */
  deployTraefik?: boolean;
  /**
   * kubeconfig context to deploy with; `""` uses the ambient one.
   * @default "" (the current context)
   */
  context?: string;
  /**
   * End-to-end tests only: write the manifests as YAML to this directory instead of applying them (Secrets in plaintext).
   * @default "" (apply to the cluster)
   */
  renderYamlToDirectory?: string;
  /**
   * Namespace of an existing ingress controller, allowed to reach the routed pods.
   * @default "kube-system"
   */
  ingressControllerNamespace?: string;
  /**
   * Seconds a Deployment may go without progress before its rollout fails (30-3600); the old ReplicaSet keeps serving
   * and `pulumi up` fails 60 s later, within the runbooks' 5-minute rollback bound.
   * @default 240
   */
  progressDeadlineSeconds?: number;
  /**
   * Service type of the public entry point (Traefik's HTTP/HTTPS ports): `LoadBalancer` where the cluster assigns
   * addresses (clouds, k3s ServiceLB, MetalLB; the only type waited for), `NodePort` on a bare cluster behind an
   * external load balancer or DNAT, `ClusterIP` behind an ingress or gateway that already exists.
   * @default "LoadBalancer"
   */
  publicService?: "LoadBalancer" | "NodePort" | "ClusterIP";
  /**
   * Fixed node ports with `publicService: NodePort`; any other service type needs both at 0.
   * @default http 0, https 0 (the cluster assigns them); see {@link NodePortsArgs}
   */
  nodePorts?: NodePortsArgs;
  /**
   * Seconds `pulumi up` waits for a StatefulSet, DaemonSet, Service, awaited Ingress or one-shot Job to become ready
   * before the update fails (60-7200). Deployments use `progressDeadlineSeconds`.
   * @default 600
   */
  readinessTimeoutSeconds?: number;
  /**
   * With an existing controller (`deployTraefik: false`), wait until it reports an address on each Ingress; set false on
   * a bare cluster whose controller reports none. Ballast's own Traefik needs no Ingress.
   * @default true
   */
  awaitIngressAddress?: boolean;
  /**
   * KEDA on the cluster, for queue-scaled workers.
   * @default enabled false, namespace "keda"; see {@link KedaArgs}
   */
  keda?: KedaArgs;
  /**
   * TCP ports the app, workers, cron jobs and extra services may reach on public addresses (NetworkPolicy egress), at
   * least one. Add what the stack calls besides HTTPS, e.g. an external Postgres (5432, Supabase's pooler 6543;
   * required with `postgres.external`) or SMTP submission (587).
   * @default [443]
   */
  internetEgressPorts?: number[];
}
