/** Placeholder until the shell's i18n lands: picks the dictionary for the page's language. */
export function useText<D>(dict: { vi: D; en: D }): D {
  return document.documentElement.lang === 'en' ? dict.en : dict.vi
}
