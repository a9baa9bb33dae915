import type { Plugin } from 'esbuild';

export declare function oneVscodeNamespace(): Plugin;
