/**
 * ControllerRegistration (key 70): a KRaft controller registers its listeners and supported features with
 * the active controller (KIP-919), which writes a RegisterControllerRecord; brokers learn the controllers'
 * endpoints from it. Kafka 4.4 spec (version 0), flexible from v0.
 */
import { api, message } from '../schema.js';

export const ControllerRegistrationRequest = message({
  name: 'ControllerRegistrationRequest',
  apiKey: 70,
  type: 'request',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'controllerId', type: 'int32', versions: '0+' },
    { name: 'incarnationId', type: 'uuid', versions: '0+', about: 'unique to each run of the controller process' },
    { name: 'zkMigrationReady', type: 'bool', versions: '0+' },
    {
      name: 'listeners', type: '[]Listener', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'uint16', versions: '0+' },
        { name: 'securityProtocol', type: 'int16', versions: '0+' },
      ],
    },
    {
      name: 'features', type: '[]Feature', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'minSupportedVersion', type: 'int16', versions: '0+' },
        { name: 'maxSupportedVersion', type: 'int16', versions: '0+' },
      ],
    },
  ],
});

export const ControllerRegistrationResponse = message({
  name: 'ControllerRegistrationResponse',
  apiKey: 70,
  type: 'response',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
  ],
});

export const ControllerRegistration = api('ControllerRegistration', ControllerRegistrationRequest, ControllerRegistrationResponse);
