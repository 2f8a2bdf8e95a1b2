// Lists in the order people read them: numbers inside ids compare as numbers, so IMEI:3500099
// comes before IMEI:35000100 (text order would put 35000100 right after 3500010).
const collator = new Intl.Collator('en', { numeric: true });

export const naturalCompare = (a, b) => collator.compare(String(a), String(b));

/** a comparator on `key(item)`: items.sort(byNatural((d) => d.DeviceID)) */
export const byNatural = (key) => (a, b) => collator.compare(String(key(a)), String(key(b)));
