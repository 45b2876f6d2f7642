/**
 * Time for the group coordinator: the broker's one clock (src/util/clock.ts), under the names the group
 * code and its state-machine tests use. The broker passes its clock; the tests drive a FakeScheduler
 * (a ManualClock) and advance time by hand, so session timeouts, rebalance timeouts and the initial
 * rebalance delay are tested without waiting.
 */
import { ManualClock, systemClock, type Clock, type Timer } from '../util/clock.js';

export type { Timer };
export type Scheduler = Clock;
export const systemScheduler: Scheduler = systemClock;
export class FakeScheduler extends ManualClock {}
