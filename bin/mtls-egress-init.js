#!/usr/bin/env node
require('../dist/sidecar/egress/main.js');
