import { lang } from '../i18n'
import { weekdayText } from './schedule-form.i18n'

/** Days of the week as checkboxes (1 = Monday … 7 = Sunday, the API's daysOfWeek), sorted. */
export function WeekdayPicker(p: { legend: string; value: number[]; onChange: (days: number[]) => void }) {
  return (
    <fieldset class="weekdays">
      <legend>{p.legend}</legend>
      {weekdayText[lang()].map((d, i) => (
        <label key={d}>
          <input
            type="checkbox"
            checked={p.value.includes(i + 1)}
            onChange={(e) =>
              p.onChange(
                e.currentTarget.checked ? [...p.value, i + 1].sort() : p.value.filter((x) => x !== i + 1),
              )
            }
          />
          {d}
        </label>
      ))}
    </fieldset>
  )
}
