/**
 * The helper image of the backup and restore round-trip tests: alpine (BusyBox) unless NKVM_HELPER_IMAGE
 * names another, so the same tests prove a GNU userland too (`npm run test:images`).
 */
export const TEST_HELPER_IMAGE = process.env['NKVM_HELPER_IMAGE'] || 'alpine:3.20';
