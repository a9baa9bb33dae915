/** What kind of failure a Kubernetes API call met, as far as a user needs to know to fix it. */
export type KubeErrorKind = 'unreachable' | 'tls' | 'unauthorized' | 'forbidden' | 'notFound' | 'timeout' | 'server' | 'other';

export interface KubeErrorDescription {
  readonly kind: KubeErrorKind;
  /** Plain words, meant to follow "...failed while trying to X: ". */
  readonly message: string;
  /** The HTTP status, when the API server answered. */
  readonly status?: number;
}

interface StatusBody {
  message?: string;
  reason?: string;
}

const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (is the cluster running, and is the server address in the kubeconfig right?)',
  ENOTFOUND: 'the host name does not resolve (check the server address in the kubeconfig, DNS and VPN)',
  EAI_AGAIN: 'the host name could not be resolved right now (check DNS and VPN)',
  EHOSTUNREACH: 'there is no route to the host (check the network, VPN or firewall)',
  ENETUNREACH: 'the network is unreachable (check the network, VPN or firewall)',
  ECONNRESET: 'the connection was reset (a proxy or firewall may be in the way)',
  EPIPE: 'the connection was closed unexpectedly (a proxy or firewall may be in the way)',
};

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNABORTED', 'UND_ERR_CONNECT_TIMEOUT']);

/** Node's certificate verification codes, plus handshake failures. */
const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/**
 * Sorts any error a Kubernetes call can throw (client-node's ApiException, node-fetch's FetchError,
 * an abort) into the few cases a user can act on, in words that say what to check.
 */
export function describeKubeError(error: unknown): KubeErrorDescription {
  const status = httpStatusOf(error);
  if (status !== undefined) return describeHttpStatus(status, statusBodyOf(error));
  // A refused WebSocket upgrade (exec) keeps only the status line; the Status body is lost.
  const upgradeStatus = /Unexpected server response: (\d{3})/.exec(messageOf(error))?.[1];
  if (upgradeStatus) return describeHttpStatus(Number(upgradeStatus), undefined);

  // node-fetch cannot tell why its signal fired; callers with a deadline know, and say so themselves.
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError') return { kind: 'timeout', message: 'the API server did not answer in time' };
  if (name === 'AbortError') return { kind: 'other', message: 'the request was stopped before the API server answered' };

  const code = networkCodeOf(error);
  const server = serverOf(error);
  const at = server ? ` at ${server}` : '';
  if (code && UNREACHABLE_CODES[code]) {
    return { kind: 'unreachable', message: `cannot reach the API server${at}: ${UNREACHABLE_CODES[code]}` };
  }
  if (code && TIMEOUT_CODES.has(code)) {
    return { kind: 'timeout', message: `the API server${at} did not answer in time (${code}); check the network or raise the timeout` };
  }
  if (code && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) {
    return {
      kind: 'tls',
      message: `the TLS connection to the API server${at} failed: ${reasonOf(error)} (${code}); check certificate-authority(-data) and the server address in the kubeconfig`,
    };
  }
  return { kind: 'other', message: reasonOf(error) };
}

function describeHttpStatus(status: number, body: StatusBody | undefined): KubeErrorDescription {
  const said = body?.message?.trim();
  switch (status) {
    case 401:
      return {
        kind: 'unauthorized',
        status,
        message: 'the API server rejected the credentials (401 Unauthorized): the token or client certificate is wrong or expired; log in again or refresh the kubeconfig',
      };
    case 403:
      // The server says "pods is forbidden: User ..."; keep its words, which name the user and the verb.
      return { kind: 'forbidden', status, message: `forbidden: ${said ? said.replace(/^.*? is forbidden: /, '') : 'the API server refused the request (403)'}` };
    case 404:
      return { kind: 'notFound', status, message: `not found: ${said ?? 'the API server has no such resource (404)'}` };
    case 408:
    case 504:
      return { kind: 'timeout', status, message: `the API server timed out (${status})${said ? `: ${said}` : ''}` };
    default:
      if (status === 429 || status >= 500) {
        return { kind: 'server', status, message: `the API server answered ${status}${said ? `: ${said}` : ''}; try again later` };
      }
      return { kind: 'other', status, message: `the API server answered ${status}${said ? `: ${said}` : ''}` };
  }
}

function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/** client-node keeps the Status JSON as a string; some paths (401) drop it entirely. */
function statusBodyOf(error: unknown): StatusBody | undefined {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'object' && body !== null) return body as StatusBody;
  if (typeof body !== 'string' || !body.trim()) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as StatusBody) : { message: body };
  } catch {
    return { message: body };
  }
}

/** The system or TLS code, looking through wrapped causes (undici wraps them, node-fetch does not). */
function networkCodeOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** node-fetch says "request to https://host:port/path failed, reason: ..."; the origin is what the user configured. */
function serverOf(error: unknown): string | undefined {
  const m = /request to (\S+) failed/.exec(messageOf(error));
  if (!m) return undefined;
  try {
    return new URL(m[1]).origin;
  } catch {
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  const message = messageOf(error);
  return /, reason: (.*)$/s.exec(message)?.[1] ?? (message || String(error));
}

/** Errors are not always Errors: client-node's exec rejects with the WebSocket's ErrorEvent. */
function messageOf(error: unknown): string {
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : '';
}
