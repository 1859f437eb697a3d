import { releaseTestbed } from "./support";

/**
 * Mocha's root hooks for the e2e suite: a testbed the suite started (the first test file that needs it
 * starts it) is stopped once, after every file has run, instead of being started anew for each file.
 */
export const mochaHooks = { afterAll: releaseTestbed };
