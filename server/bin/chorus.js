#!/usr/bin/env node
// The package's `chorus` command: runs the TypeScript CLI through tsx's loader,
// so operators need no build step.
import { register } from 'tsx/esm/api';
register();
await import('../main.ts');
