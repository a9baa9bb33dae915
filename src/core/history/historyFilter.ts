import type { SqlValue } from 'sql.js';
import { HISTORY_COLUMNS } from './historyColumns';
import type { HistoryFilter, HistoryPageQuery } from './historyRecord';

export interface SqlFragment {
  readonly sql: string;
  readonly params: SqlValue[];
}

/** Newest first; the id breaks ties between rows written in the same millisecond. */
export const NEWEST_FIRST = 'ORDER BY created_at DESC, id DESC';

export const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 10_000;

/** Builds a parameterised WHERE clause; column names come from a fixed table, values are bound. */
export function whereClause(filter: HistoryFilter): SqlFragment {
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  const equals = (column: string, value: string | undefined): void => {
    if (value !== undefined) {
      conditions.push(`${column} = ?`);
      params.push(value);
    }
  };
  equals(HISTORY_COLUMNS.context, filter.context);
  equals(HISTORY_COLUMNS.namespace, filter.namespace);
  equals(HISTORY_COLUMNS.pvcName, filter.pvc);
  equals(HISTORY_COLUMNS.operation, filter.operation);
  equals(HISTORY_COLUMNS.runId, filter.runId);
  if (filter.status !== undefined) {
    const statuses: readonly string[] = typeof filter.status === 'string' ? [filter.status] : filter.status;
    if (statuses.length === 0) {
      // An empty list matches nothing, like SQL's `IN ()` would if SQLite allowed it.
      conditions.push('0');
    } else {
      conditions.push(`${HISTORY_COLUMNS.status} IN (${statuses.map(() => '?').join(', ')})`);
      params.push(...statuses);
    }
  }
  return { sql: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
}

/** Checks `limit`/`offset` so a bad value fails loudly instead of returning everything. */
export function pageClause(query: HistoryPageQuery): SqlFragment {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const offset = query.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new RangeError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${limit}`);
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new RangeError(`offset must be a whole number of at least 0, got ${offset}`);
  }
  return { sql: 'LIMIT ? OFFSET ?', params: [limit, offset] };
}
