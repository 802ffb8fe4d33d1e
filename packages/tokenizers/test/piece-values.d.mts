export function valuesOf(key: string): Int32Array;
