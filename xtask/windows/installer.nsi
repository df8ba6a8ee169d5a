; Chatbell's Windows installer: per-user, no administrator rights. Built by
; `cargo xtask windows` with Debian's makensis, which passes:
;   VERSION  the workspace's version (1.2.3)
;   AUMID    the AppUserModelID (src-tauri/tauri.conf.json's identifier), which the toasts carry
;   SRC      the folder with chatbell.exe, chatbell-cli.exe, chatbell-sim.exe,
;            WebView2Loader.dll and chatbell.ico
;   OUT      the installer to write
; Silent: `Chatbell-setup.exe /S` installs with the defaults (start at login included);
; `uninstall.exe /S` removes it. The agent's data and settings are kept.

; A 64-bit installer for the 64-bit app (and what Wine's 64-bit prefix runs in CI).
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma
RequestExecutionLevel user

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "Win\COM.nsh"
!include "Win\Propkey.nsh"

!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Chatbell"
; The value the app's own "Start at login" writes too (crates/chatbell-resident/src/autostart.rs),
; and the one Task Manager's Startup tab keeps beside it.
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define STARTUP_APPROVED_KEY "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
; The Evergreen WebView2 Runtime's client key (Microsoft's "Detect if a WebView2 Runtime is
; already installed"): for the machine under WOW6432Node, or for this user.
!define WEBVIEW2_CLIENT "Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WEBVIEW2_URL "https://developer.microsoft.com/microsoft-edge/webview2/"

Name "Chatbell"
OutFile "${OUT}"
InstallDir "$LOCALAPPDATA\Programs\Chatbell"
InstallDirRegKey HKCU "Software\Chatbell" "InstallDir"
BrandingText "Chatbell ${VERSION}"
VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=1033 "ProductName" "Chatbell"
VIAddVersionKey /LANG=1033 "FileDescription" "Chatbell installer"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "Chatbell"

!define MUI_ICON "${SRC}\chatbell.ico"
!define MUI_UNICON "${SRC}\chatbell.ico"
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\chatbell.exe"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "Russian"

LangString WebView2Missing 1033 "Chatbell's window needs the Microsoft Edge WebView2 Runtime, which is not on this computer (Windows 11 and an up-to-date Windows 10 have it).$\r$\n$\r$\nGet the Evergreen Runtime from ${WEBVIEW2_URL} or ask your IT department. Until then Chatbell still notifies you and counts unread chats in the tray; only its window cannot open."
LangString WebView2Missing 1049 "Для окна Chatbell нужна среда Microsoft Edge WebView2 Runtime, а на этом компьютере её нет (в Windows 11 и обновлённой Windows 10 она есть).$\r$\n$\r$\nУстановите Evergreen Runtime с ${WEBVIEW2_URL} или обратитесь в ИТ-отдел. До тех пор Chatbell уведомляет и показывает непрочитанное в трее; не откроется только его окно."
LangString ShortcutFailed 1033 "Chatbell is installed, but its Start-menu shortcut could not be made as Windows needs it to show Chatbell's notifications. Reinstalling may help; otherwise tell your IT department"
LangString ShortcutFailed 1049 "Chatbell установлен, но его ярлык в меню «Пуск» не удалось создать так, как Windows требует для показа уведомлений Chatbell. Попробуйте переустановить; если не поможет, сообщите в ИТ-отдел"
LangString StartAtLogin 1033 "Start Chatbell when I sign in"
LangString StartAtLogin 1049 "Запускать Chatbell при входе в Windows"

; Makes the shortcut `lnk` to `target`, stamped with Chatbell's AppUserModelID: Windows shows a
; desktop app's toasts only for an ID that a Start-menu shortcut carries. $6 says how it went:
; "ok", or the step that failed.
!macro ShortcutWithId lnk target
  StrCpy $6 "no shell link"
  !insertmacro ComHlpr_CreateInProcInstance ${CLSID_ShellLink} ${IID_IShellLink} r0 ""
  ${If} $0 P<> 0
    ${IShellLink::SetPath} $0 '("${target}").r1'
    ${IShellLink::SetWorkingDirectory} $0 '("$INSTDIR")'
    ${IShellLink::SetDescription} $0 '("Chatbell")'
    StrCpy $6 "no property store"
    ${IUnknown::QueryInterface} $0 '("${IID_IPropertyStore}",.r1)'
    ${If} $1 P<> 0
      System::Call '*${SYSSTRUCT_PROPERTYKEY}(${PKEY_AppUserModel_ID})p.r2'
      System::Call 'shlwapi::SHStrDupW(w "${AUMID}", *p .r4)i'
      ; PROPVARIANT: vt, three reserved words, the string's pointer, the rest of the union.
      System::Call '*(&i2 ${VT_LPWSTR}, &i2 0, &i2 0, &i2 0, p r4, &i8 0)p.r3'
      ${IPropertyStore::SetValue} $1 '($2,$3).r7'
      ${IPropertyStore::Commit} $1 '().r8'
      System::Call 'ole32::CoTaskMemFree(p r4)'
      System::Free $2
      System::Free $3
      ${IUnknown::Release} $1 ""
      StrCpy $6 "the ID refused ($7, $8)"
      ${If} $7 = 0
      ${AndIf} $8 = 0
        StrCpy $6 "no file to save to"
        ${IUnknown::QueryInterface} $0 '("${IID_IPersistFile}",.r1)'
        ${If} $1 P<> 0
          ${IPersistFile::Save} $1 '("${lnk}",1).r9'
          ${IUnknown::Release} $1 ""
          StrCpy $6 "not saved ($9)"
          ${If} $9 = 0
            StrCpy $6 "ok"
          ${EndIf}
        ${EndIf}
      ${EndIf}
    ${EndIf}
    ${IUnknown::Release} $0 ""
  ${EndIf}
!macroend

; A running Chatbell holds chatbell.exe open, so it could be neither replaced nor removed. It
; is ended (the agent's own only): its store loses nothing to that, as kill -9 tests show on
; Linux. The new one starts at the next sign-in, or from the finish page.
!macro EndRunningChatbell
  ReadEnvStr $R0 USERNAME
  nsExec::Exec '"$SYSDIR\taskkill.exe" /F /IM chatbell.exe /FI "USERNAME eq $R0"'
  Pop $R1
  Sleep 500
!macroend

Section "Chatbell" SecApp
  SectionIn RO
  !insertmacro EndRunningChatbell
  SetOutPath "$INSTDIR"
  File "${SRC}\chatbell.exe"
  File "${SRC}\chatbell-cli.exe"
  File "${SRC}\chatbell-sim.exe"
  File "${SRC}\WebView2Loader.dll"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateDirectory "$SMPROGRAMS"
  !insertmacro ShortcutWithId "$SMPROGRAMS\Chatbell.lnk" "$INSTDIR\chatbell.exe"
  ${If} $6 != "ok"
    ; Installed, but Windows may drop the toasts: said, and the exit code tells a deployment
    ; tool (and CI) so.
    DetailPrint "Start-menu shortcut: $6"
    MessageBox MB_OK|MB_ICONEXCLAMATION "$(ShortcutFailed) ($6)" /SD IDOK
    SetErrorLevel 3
  ${EndIf}
  WriteRegStr HKCU "Software\Chatbell" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "Chatbell"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "Chatbell"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\chatbell.exe"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ; The WebView2 Runtime, for the window: said when missing (logged in a silent install).
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\${WEBVIEW2_CLIENT}" "pv"
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    ReadRegStr $0 HKCU "Software\${WEBVIEW2_CLIENT}" "pv"
  ${EndIf}
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    DetailPrint "WebView2 Runtime: missing"
    MessageBox MB_OK|MB_ICONINFORMATION "$(WebView2Missing)" /SD IDOK
  ${Else}
    DetailPrint "WebView2 Runtime: $0"
  ${EndIf}
SectionEnd

Section "$(StartAtLogin)" SecAutostart
  WriteRegStr HKCU "${RUN_KEY}" "Chatbell" '"$INSTDIR\chatbell.exe" --hidden'
SectionEnd

Section "Uninstall"
  !insertmacro EndRunningChatbell
  Delete "$INSTDIR\chatbell.exe"
  Delete "$INSTDIR\chatbell-cli.exe"
  Delete "$INSTDIR\chatbell-sim.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\Chatbell.lnk"
  DeleteRegValue HKCU "${RUN_KEY}" "Chatbell"
  DeleteRegValue HKCU "${STARTUP_APPROVED_KEY}" "Chatbell"
  DeleteRegKey HKCU "${UNINST_KEY}"
  DeleteRegKey HKCU "Software\Chatbell"
  ; Kept: the agent's chats (%LOCALAPPDATA%\chatbell), settings (%APPDATA%\chatbell) and the
  ; token in Credential Manager; a reinstall picks them up.
SectionEnd
