/**
 * The operations runbook, generated from the declaration (`npm run runbook -- <stack>`):
 * `renderRunbook` is the pure renderer, `runbookInput` gathers its input from the
 * validated config and the StackModel, `alertsFromModel` reads the shipped alert rules.
 */
export { renderRunbook } from "./render";
export { runbookInput, alertsFromModel, type RunbookInputOptions } from "./facts";
export type { RunbookAlert, RunbookInput, ComposeFacts, KubernetesFacts, SecretSource } from "./types";
