; Restorer's Windows installer (NSIS 3). Built by .github/workflows/windows.yml around the
; PyInstaller folder (packaging/restorer.spec); packaging/check_nsis.py compiles it on Linux
; against the Linux build to check it. Per-user by default: no administrator rights needed.
;   makensis -DBUILD_DIR=build\pyi-cpu\restorer -DVERSION=0.1.0 -DVARIANT=cpu -DOUTFILE=dist\x.exe restorer.nsi

Unicode true
!ifndef BUILD_DIR
  !error "BUILD_DIR (the PyInstaller one-folder build) must be given with -DBUILD_DIR=..."
!endif
!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef VARIANT
  !define VARIANT "cpu"
!endif
!ifndef OUTFILE
  !define OUTFILE "restorer-${VERSION}-windows-x64-${VARIANT}-setup.exe"
!endif

!include "MUI2.nsh"
!include "FileFunc.nsh"

Name "Restorer ${VERSION}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\Restorer"
InstallDirRegKey HKCU "Software\Restorer" "InstallDir"
SetCompressor /SOLID lzma
!ifdef ICON
  !define MUI_ICON "${ICON}"
  !define MUI_UNICON "${ICON}"
!endif

!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Restorer"
!define MUI_FINISHPAGE_RUN "$INSTDIR\restorer-gui.exe"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "Restorer" Main
  SetOutPath "$INSTDIR"
  File /r "${BUILD_DIR}\*.*"
  WriteUninstaller "$INSTDIR\Uninstall Restorer.exe"

  CreateDirectory "$SMPROGRAMS\Restorer"
  CreateShortCut "$SMPROGRAMS\Restorer\Restorer.lnk" "$INSTDIR\restorer-gui.exe"
  CreateShortCut "$SMPROGRAMS\Restorer\Uninstall Restorer.lnk" "$INSTDIR\Uninstall Restorer.exe"

  ; Projects (.restorer) open in Restorer; photos get "Open with Restorer".
  WriteRegStr HKCU "Software\Classes\.restorer" "" "Restorer.Project"
  WriteRegStr HKCU "Software\Classes\Restorer.Project" "" "Restorer project"
  WriteRegStr HKCU "Software\Classes\Restorer.Project\DefaultIcon" "" "$INSTDIR\restorer-gui.exe,0"
  WriteRegStr HKCU "Software\Classes\Restorer.Project\shell\open\command" "" '"$INSTDIR\restorer-gui.exe" "%1"'
  WriteRegStr HKCU "Software\Classes\Applications\restorer-gui.exe\shell\open\command" "" '"$INSTDIR\restorer-gui.exe" "%1"'
  WriteRegStr HKCU "Software\Classes\Applications\restorer-gui.exe" "FriendlyAppName" "Restorer"
  !macro OpenWith EXTENSION
    WriteRegStr HKCU "Software\Classes\${EXTENSION}\OpenWithList\restorer-gui.exe" "" ""
  !macroend
  !insertmacro OpenWith ".jpg"
  !insertmacro OpenWith ".jpeg"
  !insertmacro OpenWith ".png"
  !insertmacro OpenWith ".tif"
  !insertmacro OpenWith ".tiff"
  !insertmacro OpenWith ".bmp"
  !insertmacro OpenWith ".webp"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'

  WriteRegStr HKCU "Software\Restorer" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "Restorer"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "Restorer"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\restorer-gui.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\Uninstall Restorer.exe"'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section "Uninstall"
  Delete "$SMPROGRAMS\Restorer\Restorer.lnk"
  Delete "$SMPROGRAMS\Restorer\Uninstall Restorer.lnk"
  RMDir "$SMPROGRAMS\Restorer"
  DeleteRegKey HKCU "Software\Classes\Restorer.Project"
  DeleteRegValue HKCU "Software\Classes\.restorer" ""
  DeleteRegKey /ifempty HKCU "Software\Classes\.restorer"
  DeleteRegKey HKCU "Software\Classes\Applications\restorer-gui.exe"
  !macro ForgetOpenWith EXTENSION
    DeleteRegKey HKCU "Software\Classes\${EXTENSION}\OpenWithList\restorer-gui.exe"
  !macroend
  !insertmacro ForgetOpenWith ".jpg"
  !insertmacro ForgetOpenWith ".jpeg"
  !insertmacro ForgetOpenWith ".png"
  !insertmacro ForgetOpenWith ".tif"
  !insertmacro ForgetOpenWith ".tiff"
  !insertmacro ForgetOpenWith ".bmp"
  !insertmacro ForgetOpenWith ".webp"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DeleteRegKey HKCU "Software\Restorer"
  ; The user's photos, settings and autosaves live elsewhere; only the program folder goes.
  RMDir /r "$INSTDIR"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd
