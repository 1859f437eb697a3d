// The public surface of launchpad's components.
export * from "./app";
export * from "./config";
export * from "./containerImage";
export * from "./database";
export * from "./ingress";
export * from "./networkPolicies";
export * from "./pod";
export * from "./validate";
export * from "./webService";
