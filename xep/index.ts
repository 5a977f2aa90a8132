// The module list: every extension Chorus ships. A new module is one folder plus one line here.
import type { Module } from '../server/module.ts';
import { disco } from './disco/index.ts';
import { ping } from './ping/index.ts';
import { register } from './register/index.ts';
import { vcard } from './vcard/index.ts';
import { version } from './version/index.ts';
import { time } from './time/index.ts';
import { contactAddresses } from './contact-addresses/index.ts';
import { privateStorage } from './private/index.ts';
import { last } from './last/index.ts';
import { blocking } from './blocking/index.ts';

export const modules: readonly Module<unknown>[] = [disco, ping, register, vcard, version, time, contactAddresses, privateStorage, last, blocking];
