/**
 * RegisterControllerRecord (metadata record type 27): a controller registers its endpoints and supported
 * features (KIP-919), so brokers and other controllers can reach it; Kafka writes one per controller on
 * start-up. Kafka 4.4 spec, version 0, flexible.
 */
import { message } from '../schema.js';

export const RegisterControllerRecord = message({
  name: 'RegisterControllerRecord',
  apiKey: 27,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'controllerId', type: 'int32', versions: '0+' },
    { name: 'incarnationId', type: 'uuid', versions: '0+' },
    { name: 'zkMigrationReady', type: 'bool', versions: '0+' },
    {
      name: 'endPoints', type: '[]ControllerEndpoint', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'uint16', versions: '0+' },
        { name: 'securityProtocol', type: 'int16', versions: '0+' },
      ],
    },
    {
      name: 'features', type: '[]ControllerFeature', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'minSupportedVersion', type: 'int16', versions: '0+' },
        { name: 'maxSupportedVersion', type: 'int16', versions: '0+' },
      ],
    },
  ],
});
