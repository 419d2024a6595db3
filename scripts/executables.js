/** Finding programs, for the setup scripts (plain JavaScript, no dependencies: they run before `npm ci`). */
'use strict';
const { accessSync, constants } = require('node:fs');
const { join, delimiter } = require('node:path');

function isExecutable(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

module.exports = { isExecutable, onPath };
