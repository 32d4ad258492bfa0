/**
 * Whether the service can do its work now (e.g. its default model has loaded). A module injects
 * it (`SERVICE_READINESS`) and reports; the platform mirrors it into `grpc.health.v1` for every
 * served name once the server is up, so Kubernetes readiness and load balancers follow the model,
 * not just the open port. Starts ready: a module that never reports is served as soon as it binds.
 */
export class ServiceReadiness {
  private ready = true;
  private listener?: (ready: boolean) => void;

  set(ready: boolean): void {
    this.ready = ready;
    this.listener?.(ready);
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** The platform's side: `listener` gets the current state now and every change; `undefined` unbinds. */
  bind(listener: ((ready: boolean) => void) | undefined): void {
    this.listener = listener;
    listener?.(this.ready);
  }
}
