/**
 * BrokerHeartbeat (key 63): a registered KRaft broker's periodic lease renewal to the active controller
 * (KIP-631), every broker.heartbeat.interval.ms, on the controller listener. It reports how far the broker
 * has replayed the metadata log; the answer says whether the broker is caught up, fenced, and may finish a
 * controlled shutdown. Kafka 4.4 spec (versions 0-2), flexible from v0.
 * - v1 adds the tagged offlineLogDirs (KIP-858); v2 the tagged cordonedLogDirs (KIP-1066).
 */
import { api, message } from '../schema.js';

export const BrokerHeartbeatRequest = message({
  name: 'BrokerHeartbeatRequest',
  apiKey: 63,
  type: 'request',
  validVersions: '0-2',
  flexibleVersions: '0+',
  fields: [
    { name: 'brokerId', type: 'int32', versions: '0+' },
    { name: 'brokerEpoch', type: 'int64', versions: '0+', default: -1 },
    { name: 'currentMetadataOffset', type: 'int64', versions: '0+', about: 'the highest metadata offset the broker has reached' },
    { name: 'wantFence', type: 'bool', versions: '0+' },
    { name: 'wantShutDown', type: 'bool', versions: '0+' },
    { name: 'offlineLogDirs', type: '[]uuid', versions: '1+', taggedVersions: '1+', tag: 0 },
    {
      name: 'cordonedLogDirs', type: '[]uuid', versions: '2+', nullableVersions: '2+', taggedVersions: '2+', tag: 1, default: null,
      about: 'null before the broker reaches the RECOVERY state',
    },
  ],
});

export const BrokerHeartbeatResponse = message({
  name: 'BrokerHeartbeatResponse',
  apiKey: 63,
  type: 'response',
  validVersions: '0-2',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'isCaughtUp', type: 'bool', versions: '0+', default: false },
    { name: 'isFenced', type: 'bool', versions: '0+', default: true },
    { name: 'shouldShutDown', type: 'bool', versions: '0+' },
  ],
});

export const BrokerHeartbeat = api('BrokerHeartbeat', BrokerHeartbeatRequest, BrokerHeartbeatResponse);
