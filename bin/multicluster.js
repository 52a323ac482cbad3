#!/usr/bin/env node
// The sources are TypeScript run through tsx, so the installed binary needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
