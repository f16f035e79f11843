; Inno Setup 6 script: a per-user installer for the PyInstaller onedir build in dist\desktop-chat\.
;
; From the repository root on Windows (see packaging\README.md for the whole recipe):
;
;   .venv\Scripts\pyinstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller packaging\desktop_chat.spec
;   .venv\Scripts\python packaging\windows\make-ico.py
;   "%ProgramFiles(x86)%\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\desktop-chat.iss
;
; writes dist\desktop-chat-<version>-setup.exe. It installs without administrator rights into
; %LOCALAPPDATA%\Programs\Desktop Chat, adds a Start menu entry (and, if ticked, a desktop icon) and an
; uninstaller listed in Settings > Apps. Conversations, settings and logs live in the user's own folders
; (%LOCALAPPDATA%\desktop_chat), never in the install folder: uninstalling keeps them.
; Relative paths below are relative to this file's folder.

#ifndef AppVersion
  #error Pass the version on the command line: ISCC /DAppVersion=0.1.0 packaging\windows\desktop-chat.iss
#endif

#define AppName "Desktop Chat"
#define AppExeName "desktop-chat.exe"
#define AppPublisher "desktop_chat developers"
#define BuildDir "..\..\dist\desktop-chat"

#if !FileExists(AddBackslash(SourcePath) + BuildDir + "\" + AppExeName)
  #error dist\desktop-chat\desktop-chat.exe is missing: build it with PyInstaller first (packaging\README.md)
#endif
#if !FileExists(AddBackslash(SourcePath) + "desktop-chat.ico")
  #error packaging\windows\desktop-chat.ico is missing: run python packaging\windows\make-ico.py first
#endif

[Setup]
; AppId identifies the app to upgrades and the uninstaller: never change it.
AppId={{B3560DC0-9390-40FB-B3AE-CDBEF0223937}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
VersionInfoVersion={#AppVersion}
VersionInfoProductName={#AppName}
; Per user: no UAC prompt, nothing outside the user's profile.
PrivilegesRequired=lowest
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=desktop-chat-{#AppVersion}-setup
SetupIconFile=desktop-chat.ico
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; A running Desktop Chat is asked to close (Restart Manager) before its files are replaced.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade starts from a clean bundle: no library of the previous version is left beside the new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BuildDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"; Comment: "Chat with cloud and local language models"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#StringChange(AppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Files the app's Python may have written next to its modules (the user's data is elsewhere and stays).
Type: filesandordirs; Name: "{app}\_internal"
