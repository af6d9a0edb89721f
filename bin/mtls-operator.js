#!/usr/bin/env node
require('../dist/operator/main.js');
