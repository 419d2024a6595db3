import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Keyword search attributes operators filter on in the Web UI (docs/architecture.md). */
export const SA = {
  tree: defineSearchAttributeKey('BfTree', SearchAttributeType.KEYWORD),
  branch: defineSearchAttributeKey('BfBranch', SearchAttributeType.KEYWORD),
  commit: defineSearchAttributeKey('BfCommit', SearchAttributeType.KEYWORD),
  config: defineSearchAttributeKey('BfConfig', SearchAttributeType.KEYWORD),
  platform: defineSearchAttributeKey('BfPlatform', SearchAttributeType.KEYWORD),
  lab: defineSearchAttributeKey('BfLab', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('BfKind', SearchAttributeType.KEYWORD),
  result: defineSearchAttributeKey('BfResult', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTE_NAMES = Object.values(SA).map((k) => k.name);
