/** Status bodies shaped as the real API server returns them. */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message: string; field?: string }[]; retryAfterSeconds?: number };
  code: number;
}

export class ApiError extends Error {
  constructor(readonly body: StatusBody, readonly headers: Record<string, string> = {}) {
    super(body.message);
  }
  get code(): number {
    return this.body.code;
  }
}

function failure(code: number, reason: string, message: string, details?: StatusBody['details']): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code });
}

/** The resource as the server names it in messages: `pods`, `deployments.apps`. */
export function qualified(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

export const errors = {
  notFound: (plural: string, group: string, name: string) =>
    failure(404, 'NotFound', `${qualified(plural, group)} "${name}" not found`, { name, group: group || undefined, kind: plural }),
  pathNotFound: () => failure(404, 'NotFound', 'the server could not find the requested resource'),
  alreadyExists: (plural: string, group: string, name: string) =>
    failure(409, 'AlreadyExists', `${qualified(plural, group)} "${name}" already exists`, { name, group: group || undefined, kind: plural }),
  conflict: (plural: string, group: string, name: string, why: string) =>
    failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(plural, group)} "${name}": ${why}`, { name, kind: plural }),
  invalid: (kind: string, group: string, name: string, causes: { field: string; message: string }[]) =>
    failure(
      422,
      'Invalid',
      `${kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      { name, group: group || undefined, kind, causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })) },
    ),
  badRequest: (message: string) => failure(400, 'BadRequest', message),
  unauthorized: () => failure(401, 'Unauthorized', 'Unauthorized'),
  forbidden: (user: string, verb: string, plural: string, group: string, namespace: string | undefined, name?: string, sub?: string) => {
    const resource = sub ? `${plural}/${sub}` : plural;
    const named = name ? ` "${name}"` : '';
    const scope = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
    return failure(
      403,
      'Forbidden',
      `${qualified(resource, group)}${named} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}"${scope}`,
      { name, group: group || undefined, kind: plural },
    );
  },
  methodNotAllowed: () => failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
  unsupportedMediaType: (type: string) => failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json (got ${type})`),
  expired: (message: string) => failure(410, 'Expired', message),
  tooManyRequests: (retryAfterSeconds: number) => {
    const e = failure(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds });
    return new ApiError(e.body, { 'Retry-After': String(retryAfterSeconds) });
  },
  serviceUnavailable: () => failure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'),
  internal: (message: string) => failure(500, 'InternalError', `Internal error occurred: ${message}`),
};

export function successStatus(details?: StatusBody['details']): Omit<StatusBody, 'message' | 'reason'> & { message?: string } {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}
