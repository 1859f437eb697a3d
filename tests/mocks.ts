import * as pulumi from "@pulumi/pulumi";

// Shared test support: the recording mocks (the same ones the tools use) and a way to await Outputs.
export { RecordingMocks, RecordedResource, installMocks, placeholderDigest } from "../tools/harness/mocks";
export { containsSecret, resolveSecrets } from "../tools/harness";

/** The value of an Output, for `await` in async tests. */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => { resolve(value); return value; }));
}

/** Waits until every registration the code under test started has reached the mocks. */
export async function settled(): Promise<void> {
    await pulumi.runtime.disconnect();
}
