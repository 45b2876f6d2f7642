/**
 * SaslHandshake (key 17): pick a SASL mechanism (KIP-43). Kafka 3.9 spec (versions 0-1), never flexible.
 * - v0: raw SASL tokens follow on the socket; v1: tokens travel in SaslAuthenticate requests (KIP-152).
 * - The version cannot easily be bumped because of client negotiation bugs (KAFKA-9577).
 */
import { api, message } from '../schema.js';

export const SaslHandshakeRequest = message({
  name: 'SaslHandshakeRequest',
  apiKey: 17,
  type: 'request',
  validVersions: '0-1',
  flexibleVersions: 'none',
  fields: [
    { name: 'mechanism', type: 'string', versions: '0+' },
  ],
});

export const SaslHandshakeResponse = message({
  name: 'SaslHandshakeResponse',
  apiKey: 17,
  type: 'response',
  validVersions: '0-1',
  flexibleVersions: 'none',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'mechanisms', type: '[]string', versions: '0+' },
  ],
});

export const SaslHandshake = api('SaslHandshake', SaslHandshakeRequest, SaslHandshakeResponse);
