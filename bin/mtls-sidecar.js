#!/usr/bin/env node
require('../dist/sidecar/main.js');
