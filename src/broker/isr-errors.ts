/** Errors of the leader's ISR changes on their way to the controller (isr-manager.ts, partition.ts). */

/** A proposal made before this process registered with the controller: it waits for the next trigger. */
export class BrokerNotRegisteredError extends Error {
  constructor() {
    super('this broker is not registered with the controller yet; no AlterPartition before it is');
    this.name = 'BrokerNotRegisteredError';
  }
}
