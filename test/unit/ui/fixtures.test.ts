// The recorded statuses the panel tests use are valid rk64.status/1 documents (the core's validator).
import { describe, expect, it } from 'vitest';

import { validateStatus } from '../../../src/core/status/validate.js';
import { FIXTURE_NAMES, loadStatus } from '../../lib/console-fixtures.js';

describe('status fixtures', () => {
  it.each(FIXTURE_NAMES)('%s validates against the schema', (name) => {
    const status = loadStatus(name);
    expect(validateStatus(status, name)).toEqual(status);
  });
});
