// The recorded statuses the panel tests use are valid rk64.status/1 documents (the core's validator),
// read whole: every field they hold comes back as it was (fields newer than them read as null).
import { describe, expect, it } from 'vitest';

import { validateStatus } from '../../../src/core/status/validate.js';
import { FIXTURE_NAMES, loadStatus } from '../../lib/console-fixtures.js';

describe('status fixtures', () => {
  it.each(FIXTURE_NAMES)('%s validates against the schema', (name) => {
    const status = loadStatus(name);
    expect(validateStatus(status, name)).toMatchObject(status);
  });
});
