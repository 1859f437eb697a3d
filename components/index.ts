// The public surface of launchpad's components.
export * from "./app";
export * from "./buildContext";
export * from "./config";
export * from "./containerImage";
export * from "./database";
export * from "./defaults";
export * from "./image";
export * from "./ingress";
export * from "./networkPolicies";
export * from "./password";
export * from "./pod";
export * from "./validate";
export * from "./webService";
