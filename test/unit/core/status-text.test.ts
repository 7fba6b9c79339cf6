// `rk64 status` text is the view model's panels printed plainly: the same titles and rows as the
// dashboard, in the same words, nothing wrapped or cut.
import { describe, expect, it } from 'vitest';

import { renderStatusText } from '../../../src/cli/render.js';
import { panels } from '../../../src/core/dashboard/view.js';
import { shown } from '../../../src/core/printable.js';
import { FIXTURE_NAMES, loadStatus } from '../../lib/console-fixtures.js';

describe('rk64 status text', () => {
  it.each(FIXTURE_NAMES)('%s: every panel title and row, in order, as the dashboard has them', (name) => {
    const status = shown(loadStatus(name));
    const text = renderStatusText('lab-gw', status, { color: false });
    const expected = panels(status).flatMap((p) => ['', p.title, ...p.rows.map((r) => `  ${r.text}`)]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`lab-gw  (${status.hostname ?? '-'}, collected ${status.collectedAt})`);
    expect(lines.slice(-expected.length)).toEqual(expected);
  });

  it('says what the dashboard says about SSH on the WAN', () => {
    const text = renderStatusText('lab-gw', shown(loadStatus('healthy')), { color: false });
    expect(text).toContain('  ssh-wan  off (firewall drops)');
    expect(text).not.toContain('blocks');
  });

  it('colours by tone only when asked, and reads the same without', () => {
    const status = shown(loadStatus('rolled-back'));
    const coloured = renderStatusText('lab-gw', status, { color: true });
    expect(coloured).toContain('\x1b[1;31m');
    // eslint-disable-next-line no-control-regex -- removing the colour codes is the point
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, '')).toBe(
      renderStatusText('lab-gw', status, { color: false }),
    );
  });
});
