/**
 * SaslAuthenticate (key 36): carries SASL tokens as Kafka requests after SaslHandshake v1 (KIP-152).
 * Kafka 3.9 spec (versions 0-2).
 * - v1 adds sessionLifetimeMs for re-authentication (KIP-368); v2 is the first flexible version (KIP-482).
 */
import { api, message } from '../schema.js';

export const SaslAuthenticateRequest = message({
  name: 'SaslAuthenticateRequest',
  apiKey: 36,
  type: 'request',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'authBytes', type: 'bytes', versions: '0+' },
  ],
});

export const SaslAuthenticateResponse = message({
  name: 'SaslAuthenticateResponse',
  apiKey: 36,
  type: 'response',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'authBytes', type: 'bytes', versions: '0+' },
    { name: 'sessionLifetimeMs', type: 'int64', versions: '1+', ignorable: true, default: 0 },
  ],
});

export const SaslAuthenticate = api('SaslAuthenticate', SaslAuthenticateRequest, SaslAuthenticateResponse);
