/**
 * Every Ballast policy, in one list: what index.ts serves and what the tests run.
 * Importing this module starts nothing (only `new PolicyPack` in index.ts does).
 */
import type { Policies } from "@pulumi/policy";
import { autoscalingSane } from "./autoscaling";
import { datastoresNetworkPolicy, datastoresPrivate } from "./datastores";
import { containersHardened, monitoringInternal, networkDefaultDeny, podSecurityEnforced, rbacLeastPrivilege } from "./hardening";
import { imagesPinned } from "./images";
import { privilegesRestricted } from "./privileges";
import { healthChecks, resourceLimits } from "./resources";
import { routesTlsOnly } from "./routes";
import { secretsByReference } from "./secrets";
import { sshBootstrapKeySeparate, sshHostKeyPinned } from "./ssh";
import { prodBackupsScheduled, prodLogAnonymisation } from "./stack";
import { storageRetained } from "./storage";

export const resourcePolicies = [
  imagesPinned,
  resourceLimits,
  healthChecks,
  datastoresPrivate,
  storageRetained,
  autoscalingSane,
  routesTlsOnly,
  secretsByReference,
  privilegesRestricted,
  containersHardened,
  monitoringInternal,
  rbacLeastPrivilege,
  sshHostKeyPinned,
] as const;

export const stackPolicies = [
  datastoresNetworkPolicy,
  networkDefaultDeny,
  podSecurityEnforced,
  prodBackupsScheduled,
  prodLogAnonymisation,
  sshBootstrapKeySeparate,
] as const;

export const ballastPolicies: Policies = [...resourcePolicies, ...stackPolicies];

export const packName = "ballast";
export const packDescription =
  "Ballast: what the runbooks learned the hard way (pinned images, private datastores, retained data, TLS-only routes, secrets by reference, least privilege, hardened containers, internal monitoring, RBAC without wildcards or Secret reads, default-deny networks, Pod Security restricted enforced, pinned SSH host keys, a bootstrap key apart from the deploy key, prod backups and log anonymisation), for the Compose and Kubernetes targets.";
