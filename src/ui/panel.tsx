// One dashboard panel as layout.ts placed it, and the single-line rows around the panels.
// Panels are memoised on their content, so a refresh that changes one panel re-renders only it,
// and Ink's incremental rendering then rewrites only the lines that changed.
import { Box, Text } from 'ink';
import { memo } from 'react';

import type { PlacedPanel } from '../core/dashboard/layout.js';
import type { PanelRow } from '../core/dashboard/view.js';
import { toneStyle, type Theme } from './theme.js';

/** A row that wraps inside whatever width it is given (notices, the connection line). */
export function RowText({ row, theme }: { row: PanelRow; theme: Theme }) {
  return (
    <Text {...toneStyle(theme, row.tone)} wrap="wrap">
      {row.text}
    </Text>
  );
}

/** The plain theme brackets titles, so they read as titles without underlining. */
export function titleText(theme: Theme): (title: string) => string {
  return theme.colors ? (t) => t : (t) => `[ ${t} ]`;
}

function PanelViewInner({
  placed,
  marginRight,
  marginBottom,
  theme,
}: {
  placed: PlacedPanel;
  marginRight: number;
  marginBottom: number;
  theme: Theme;
}) {
  // The lines are already wrapped to the width (layout.ts); truncation only guards wide characters.
  return (
    <Box
      flexDirection="column"
      width={placed.width}
      marginRight={marginRight}
      marginBottom={marginBottom}
      flexShrink={0}
    >
      {placed.title.map((line, i) => (
        <Text key={`t${i}`} bold={theme.colors} underline={theme.colors} wrap="truncate-end">
          {line}
        </Text>
      ))}
      {placed.lines.map((row, i) => (
        <Text key={i} {...toneStyle(theme, row.tone)} wrap="truncate-end">
          {row.text}
        </Text>
      ))}
    </Box>
  );
}

export const PanelView = memo(
  PanelViewInner,
  (a, b) =>
    a.theme.colors === b.theme.colors &&
    a.marginRight === b.marginRight &&
    a.marginBottom === b.marginBottom &&
    a.placed.width === b.placed.width &&
    JSON.stringify(a.placed.title) === JSON.stringify(b.placed.title) &&
    JSON.stringify(a.placed.lines) === JSON.stringify(b.placed.lines),
);

export const Line = memo(
  function Line({ row, theme }: { row: PanelRow; theme: Theme }) {
    return (
      <Text {...toneStyle(theme, row.tone)} wrap="truncate-end">
        {row.text}
      </Text>
    );
  },
  (a, b) => a.theme.colors === b.theme.colors && a.row.text === b.row.text && a.row.tone === b.row.tone,
);
