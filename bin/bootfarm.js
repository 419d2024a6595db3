#!/usr/bin/env node
'use strict';
// TypeScript runs directly through tsx's require hook: no build step.
require('tsx/cjs');
require('../cli/main.ts');
