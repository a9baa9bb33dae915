import type { BuildOptions } from 'esbuild';

export declare const extensionHostOptions: BuildOptions;
