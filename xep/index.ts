// The module list: every extension Chorus ships. A new module is one folder plus one line here.
import type { Module } from '../server/module.ts';
import { disco } from './disco/index.ts';
import { ping } from './ping/index.ts';
import { blocking } from './blocking/index.ts';

export const modules: readonly Module<unknown>[] = [disco, ping, blocking];
