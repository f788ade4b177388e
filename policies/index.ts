/**
 * The Ballast policy pack. Only this file constructs the PolicyPack, which starts the
 * policy server the Pulumi CLI talks to: tests import ./all.ts and the policy modules,
 * never this file.
 *
 *   pulumi preview --policy-pack policies --policy-pack-config policies/config.prod.json
 */
import { PolicyPack } from "@pulumi/policy";
import { ballastPolicies, packDescription, packName } from "./all";

new PolicyPack(packName, {
  description: packDescription,
  enforcementLevel: "mandatory",
  policies: ballastPolicies,
});
