/**
 * What a fix or finding text must never show: a value the facts did not have
 * ("unknown", "undefined", "null", "NaN"), an unfilled
 * {{param}}, or the hole an empty one leaves ("In : …", "``", " ()"); "connect()" is a call.
 * /dev/null is a path, not a missing value.
 */
export const PLACEHOLDER = /\bunknown\b|\bundefined\b|(?<!\/dev\/)\bnull\b|\bNaN\b|\{\{|\}\}|\bIn :|``| \(\)|: \.|: ;|, ,/;
