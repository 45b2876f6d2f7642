/**
 * The Schema Registry's REST errors: an HTTP status, Confluent's `error_code` and message
 * (io.confluent.kafka.schemaregistry.rest.exceptions.Errors and its Rest*Exception classes), answered as
 * `{"error_code": n, "message": "..."}`.
 */

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const subjectNotFound = (subject: string): RegistryError => new RegistryError(404, 40401, `Subject '${subject}' not found.`);
export const versionNotFound = (version: number | string): RegistryError => new RegistryError(404, 40402, `Version ${version} not found.`);
export const schemaNotFound = (id?: number): RegistryError => new RegistryError(404, 40403, id === undefined ? 'Schema not found' : `Schema ${id} not found`);
export const subjectSoftDeleted = (subject: string): RegistryError =>
  new RegistryError(404, 40404, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`);
export const subjectNotSoftDeleted = (subject: string): RegistryError =>
  new RegistryError(404, 40405, `Subject '${subject}' was not deleted first before being permanently deleted`);
export const versionSoftDeleted = (subject: string, version: number): RegistryError =>
  new RegistryError(404, 40406, `Subject '${subject}' Version ${version} was soft deleted.Set permanent=true to delete permanently`);
export const versionNotSoftDeleted = (subject: string, version: number): RegistryError =>
  new RegistryError(404, 40407, `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`);
export const subjectCompatibilityNotConfigured = (subject: string): RegistryError =>
  new RegistryError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
export const subjectModeNotConfigured = (subject: string): RegistryError =>
  new RegistryError(404, 40409, `Subject '${subject}' does not have subject-level mode configured`);
export const incompatibleSchema = (message: string): RegistryError => new RegistryError(409, 40901, message);
export const invalidSchema = (message: string): RegistryError => new RegistryError(422, 42201, message);
export const invalidVersion = (version: string): RegistryError =>
  new RegistryError(422, 42202, `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
export const invalidCompatibilityLevel = (): RegistryError =>
  new RegistryError(
    422,
    42203,
    'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
  );
export const invalidMode = (): RegistryError => new RegistryError(422, 42204, 'Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE, and IMPORT.');
export const operationNotPermitted = (message: string): RegistryError => new RegistryError(422, 42205, message);
export const referenceExists = (message: string): RegistryError => new RegistryError(422, 42206, message);
export const idDoesNotMatch = (message: string): RegistryError => new RegistryError(422, 42207, message);
export const invalidSubject = (subject: string): RegistryError => new RegistryError(422, 42208, `The specified subject '${subject}' is not valid.`);
export const schemaTooLarge = (message: string): RegistryError => new RegistryError(422, 42209, message);
export const storeError = (message: string): RegistryError => new RegistryError(500, 50001, message);
/** The store did not answer within kafkastore.timeout.ms (Confluent's RestSchemaRegistryTimeoutException, e.g. "Register operation timed out"). */
export const operationTimeout = (operation: string): RegistryError => new RegistryError(500, 50002, `${operation} operation timed out`);
/** A non-leader could not reach the leader it forwards a write to (Confluent's RestRequestForwardingException). */
export const forwardingFailed = (reason: string): RegistryError => new RegistryError(500, 50003, `Error while forwarding the request to the leader: ${reason}`);
/** No leader is elected, or a forwarded write reached a node that is not the leader (RestUnknownLeaderException). */
export const unknownLeader = (message: string): RegistryError => new RegistryError(500, 50004, message);
/** Bodies that are not JSON, or JSON of the wrong shape: rest-utils' JsonParseExceptionMapper answers 400. */
export const badRequest = (message: string): RegistryError => new RegistryError(400, 400, message);
export const httpNotFound = (): RegistryError => new RegistryError(404, 404, 'HTTP 404 Not Found');
export const methodNotAllowed = (): RegistryError => new RegistryError(405, 405, 'HTTP 405 Method Not Allowed');
