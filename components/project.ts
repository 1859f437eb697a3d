/**
 * The Pulumi project's name, as Pulumi.yaml gives it: the stack's config keys live under `launchpad:`,
 * and the type tokens of the project's dynamic resources carry it.
 */
export const PROJECT = "launchpad";
