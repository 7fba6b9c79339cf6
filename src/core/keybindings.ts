// The console's one keybinding table. It drives the key dispatch (src/core/dashboard/controller.ts),
// the help screen (`?`), the footer hints and the key table in docs/console.md
// (scripts/gen-console-docs rewrites it; test/unit/docs/console-doc.test.ts checks it is current).

/** Keys that change the gateway: each asks for an action of the catalogue (src/core/actions/catalogue.ts). */
export type ActionBindingId =
  | 'mark-good-booted'
  | 'mark-good-other'
  | 'mark-bad-booted'
  | 'mark-bad-other'
  | 'ssh-wan-toggle'
  | 'install'
  | 'reboot'
  | 'vpn-config';

/** Keys that only steer the console. */
export type ControlBindingId =
  | 'help'
  | 'refresh'
  | 'last-action'
  | 'history'
  | 'quit'
  | 'confirm'
  | 'cancel'
  | 'back'
  | 'fleet-open'
  | 'fleet-next'
  | 'fleet-previous'
  | 'fleet-filter'
  | 'fleet-sort'
  | 'fleet-refresh'
  | 'fleet-quit';

export type BindingId = ActionBindingId | ControlBindingId;

/** Where a binding applies: the dashboard itself, a confirmation / prompt dialog, or the fleet view. */
export type BindingScope = 'dashboard' | 'dialog' | 'fleet';

interface BindingFields {
  /** The input character(s) that trigger it; `escape` and `return` name those keys. */
  keys: readonly string[];
  /** As shown in the help screen, the footer and the docs. */
  label: string;
  description: string;
  /** Shown in the footer hints (the help screen lists every binding). */
  footer: boolean;
  scope: BindingScope;
}

/**
 * `dangerous`: the key changes the gateway. The dispatcher asks to confirm every dangerous key the
 * same way, and in read-only mode a dangerous key is neither shown nor accepted. Nothing else
 * decides either.
 */
export type KeyBinding =
  | (BindingFields & { id: ActionBindingId; dangerous: true })
  | (BindingFields & { id: ControlBindingId; dangerous: false });

export const KEY_BINDINGS: readonly KeyBinding[] = [
  {
    id: 'help',
    keys: ['?'],
    label: '?',
    description: 'Show or hide this help',
    dangerous: false,
    footer: true,
    scope: 'dashboard',
  },
  {
    id: 'refresh',
    keys: ['r'],
    label: 'r',
    description: 'Refresh now (one rk64-status round trip)',
    dangerous: false,
    footer: true,
    scope: 'dashboard',
  },
  {
    id: 'last-action',
    keys: ['l'],
    label: 'l',
    description: "Show the outcome of the gateway's last install (rk64-action last)",
    dangerous: false,
    footer: false,
    scope: 'dashboard',
  },
  {
    id: 'history',
    keys: ['h'],
    label: 'h',
    description: 'Show or hide the lifecycle history (the last fall-back explained on top)',
    dangerous: false,
    footer: false,
    scope: 'dashboard',
  },
  {
    id: 'mark-good-booted',
    keys: ['g'],
    label: 'g',
    description: 'Mark the booted slot good (confirms an update)',
    dangerous: true,
    footer: true,
    scope: 'dashboard',
  },
  {
    id: 'mark-good-other',
    keys: ['G'],
    label: 'G',
    description: 'Mark the other slot good',
    dangerous: true,
    footer: false,
    scope: 'dashboard',
  },
  {
    id: 'mark-bad-booted',
    keys: ['b'],
    label: 'b',
    description: 'Mark the booted slot bad (the next boot falls back to the other slot)',
    dangerous: true,
    footer: true,
    scope: 'dashboard',
  },
  {
    id: 'mark-bad-other',
    keys: ['B'],
    label: 'B',
    description: 'Mark the other slot bad',
    dangerous: true,
    footer: false,
    scope: 'dashboard',
  },
  {
    id: 'ssh-wan-toggle',
    keys: ['w'],
    label: 'w',
    description: 'Turn SSH on the WAN port on or off',
    dangerous: true,
    footer: true,
    scope: 'dashboard',
  },
  {
    id: 'install',
    keys: ['i'],
    label: 'i',
    description: 'Install a bundle: upload it, install it into the other slot, offer a reboot',
    dangerous: true,
    footer: true,
    scope: 'dashboard',
  },
  {
    id: 'vpn-config',
    keys: ['V'],
    label: 'V',
    description: 'Install the recovery VPN configuration (a tar archive of make-vpn server output)',
    dangerous: true,
    footer: false,
    scope: 'dashboard',
  },
  {
    id: 'reboot',
    keys: ['R'],
    label: 'R',
    description: 'Reboot the gateway',
    dangerous: true,
    footer: true,
    scope: 'dashboard',
  },
  {
    id: 'quit',
    keys: ['q', 'ctrl+c'],
    label: 'q',
    description: 'Quit (a running install continues on the gateway)',
    dangerous: false,
    footer: true,
    scope: 'dashboard',
  },
  {
    id: 'back',
    keys: ['escape'],
    label: 'Esc',
    description: 'Back to the fleet view (a dashboard opened from it; the connection stays open)',
    dangerous: false,
    footer: false,
    scope: 'dashboard',
  },
  {
    id: 'fleet-open',
    keys: ['return'],
    label: 'Enter',
    description: "Open the selected gateway's dashboard (Esc returns)",
    dangerous: false,
    footer: true,
    scope: 'fleet',
  },
  {
    id: 'fleet-next',
    keys: ['j', 'down'],
    label: 'j / ↓',
    description: 'Select the next gateway',
    dangerous: false,
    footer: false,
    scope: 'fleet',
  },
  {
    id: 'fleet-previous',
    keys: ['k', 'up'],
    label: 'k / ↑',
    description: 'Select the previous gateway',
    dangerous: false,
    footer: false,
    scope: 'fleet',
  },
  {
    id: 'fleet-filter',
    keys: ['/'],
    label: '/',
    description: 'Filter the rows (any column holds the text); Enter keeps it, Esc clears it',
    dangerous: false,
    footer: true,
    scope: 'fleet',
  },
  {
    id: 'fleet-sort',
    keys: ['s'],
    label: 's',
    description: 'Sort by the next column (name, state, lifecycle, version, last seen)',
    dangerous: false,
    footer: true,
    scope: 'fleet',
  },
  {
    id: 'fleet-refresh',
    keys: ['r'],
    label: 'r',
    description: 'Refresh every gateway now',
    dangerous: false,
    footer: true,
    scope: 'fleet',
  },
  {
    id: 'fleet-quit',
    keys: ['q', 'ctrl+c'],
    label: 'q',
    description: 'Quit the fleet view (closes every connection)',
    dangerous: false,
    footer: true,
    scope: 'fleet',
  },
  {
    id: 'confirm',
    keys: ['y'],
    label: 'y',
    description: 'Confirm the action named in the dialog',
    dangerous: false,
    footer: false,
    scope: 'dialog',
  },
  {
    id: 'cancel',
    keys: ['n', 'escape'],
    label: 'n / Esc',
    description: 'Cancel the dialog; nothing changes',
    dangerous: false,
    footer: false,
    scope: 'dialog',
  },
];

/** Shown and accepted in read-only mode: every key that does not change the gateway. */
export function availableReadOnly(b: KeyBinding): boolean {
  return !b.dangerous;
}

/** Bindings a user can see (and use) in the given mode. */
export function visibleBindings(readOnly: boolean, scope?: BindingScope): KeyBinding[] {
  return KEY_BINDINGS.filter(
    (b) => (!readOnly || availableReadOnly(b)) && (scope === undefined || b.scope === scope),
  );
}

/** The binding a key press triggers, or undefined. `key` is the input character or a key name. */
export function bindingFor(key: string, scope: BindingScope, readOnly: boolean): KeyBinding | undefined {
  return visibleBindings(readOnly, scope).find((b) => b.keys.includes(key));
}

export function footerHints(readOnly: boolean, scope: BindingScope = 'dashboard'): string {
  return visibleBindings(readOnly, scope)
    .filter((b) => b.footer)
    .map((b) => `${b.label} ${shortName(b)}`)
    .join('  ');
}

function shortName(b: KeyBinding): string {
  const names: Record<BindingId, string> = {
    help: 'help',
    refresh: 'refresh',
    'last-action': 'last',
    history: 'history',
    'mark-good-booted': 'good',
    'mark-good-other': 'good other',
    'mark-bad-booted': 'bad',
    'mark-bad-other': 'bad other',
    'ssh-wan-toggle': 'ssh-wan',
    install: 'install',
    'vpn-config': 'vpn config',
    reboot: 'reboot',
    quit: 'quit',
    confirm: 'yes',
    cancel: 'no',
    back: 'back',
    'fleet-open': 'open',
    'fleet-next': 'next',
    'fleet-previous': 'previous',
    'fleet-filter': 'filter',
    'fleet-sort': 'sort',
    'fleet-refresh': 'refresh',
    'fleet-quit': 'quit',
  };
  return names[b.id];
}

/** The markdown key table in docs/console.md (between the keybindings markers). */
export function keyTableMarkdown(): string {
  const rows = KEY_BINDINGS.map(
    (b) =>
      `| \`${b.label}\` | ${b.scope} | ${b.description} | ${b.dangerous ? 'yes' : 'no'} | ${
        availableReadOnly(b) ? 'yes' : 'no'
      } |`,
  );
  return [
    '| Key | Where | What it does | Dangerous (asks to confirm) | In read-only mode |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
