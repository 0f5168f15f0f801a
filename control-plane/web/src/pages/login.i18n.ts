import { defineMessages } from '../i18n'

export const tl = defineMessages({
  vi: {
    title: 'Đăng nhập',
    subtitle: 'Hệ thống truyền thanh cơ sở',
    username: 'Tên đăng nhập',
    password: 'Mật khẩu',
    submit: 'Đăng nhập',
    required: 'Vui lòng nhập tên đăng nhập và mật khẩu.',
  },
  en: {
    title: 'Log in',
    subtitle: 'Grassroots radio system',
    username: 'Username',
    password: 'Password',
    submit: 'Log in',
    required: 'Please enter your username and password.',
  },
})
