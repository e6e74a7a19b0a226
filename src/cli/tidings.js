#!/usr/bin/env node
// `npx tidings` / the package bin: Tidings has no build step, so load the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./index.ts');
