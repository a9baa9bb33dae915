import { IncomingMessage, ServerResponse } from 'node:http';
import { ResourceType } from '../resourceTypes';
import { KubeObject, ObjectStore, StoreEvent } from './objectStore';
import { errors } from './status';

export interface WatchOptions {
  type: ResourceType;
  namespace?: string;
  matches: (obj: KubeObject) => boolean;
  resourceVersion?: string;
  timeoutSeconds?: number;
  sendInitialEvents: boolean;
}

/** Streams watch events as the API server does: one JSON object per line on a chunked response. */
export function serveWatch(store: ObjectStore, req: IncomingMessage, res: ServerResponse, options: WatchOptions): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  // Clients wait for the response headers before they treat the watch as established.
  res.flushHeaders();
  const write = (type: string, object: unknown): void => {
    res.write(JSON.stringify({ type, object }) + '\n');
  };
  const relevant = (e: StoreEvent): boolean =>
    e.resource === options.type && (options.namespace === undefined || e.object.metadata.namespace === options.namespace) && options.matches(e.object);

  const rv = options.resourceVersion;
  if (!rv || rv === '0' || options.sendInitialEvents) {
    for (const obj of store.list(options.type, options.namespace)) if (options.matches(obj)) write('ADDED', obj);
  } else {
    const since = store.eventsSince(Number(rv));
    if (!since) {
      write('ERROR', errors.expired(`too old resource version: ${rv} (${store.oldestWatchableRevision})`).body);
      res.end();
      return;
    }
    for (const e of since) if (relevant(e)) write(e.type, e.object);
  }

  const unsubscribe = store.subscribe((e) => {
    if (relevant(e)) write(e.type, e.object);
  });
  const finish = (): void => {
    unsubscribe();
    clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(finish, (options.timeoutSeconds ?? 1800) * 1000);
  req.on('close', finish);
  res.on('close', finish);
}
