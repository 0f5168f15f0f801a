import { render } from 'preact'
import { App } from './app'
import { interceptLinks } from './router'
import './styles.css'

interceptLinks()
const root = document.getElementById('app')
if (root) render(<App />, root)
