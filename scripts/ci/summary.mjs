#!/usr/bin/env node
// Prints Vitest's JSON report as one plain line, "N passed, N failed[, N skipped]", so a CI log
// shows at a glance whether tests ran at all. Exits non-zero when none did or any failed.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'reports/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(path, 'utf8'));
} catch (error) {
  console.log('0 passed, 0 failed');
  console.error(`summary: cannot read ${path}: ${error.message}`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTests ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
if (failed > 0 || passed === 0 || report.success === false) process.exit(1);
