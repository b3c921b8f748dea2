# Packaging (CPack), included from the top-level CMakeLists.txt.
#   Linux:   .deb (DEB) and .tar.gz — built and checked in CI by scripts/package-check.sh
#   Windows: NSIS installer + ZIP, Qt deployed by windeployqt       (not verified, see README.md)
#   macOS:   DragNDrop .dmg of LoopDeck.app, Qt deployed by macdeployqt (not verified)
# Usage: cmake --build <dir> --target package   (or: cd <dir> && cpack -G DEB)
set(LOOPDECK_PACKAGE_CONTACT "LoopDeck maintainers <maintainers@loopdeck.invalid>"
    CACHE STRING "Maintainer of the packages, as Name <email>")

set(CPACK_PACKAGE_NAME loopdeck)
set(CPACK_PACKAGE_VENDOR "LoopDeck")
set(CPACK_PACKAGE_CONTACT "${LOOPDECK_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "control panel and ML backend for the Label Studio labeling loop")
# Lines of at most 80 characters (Debian's extended description).
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
    "LoopDeck watches the projects of a Label Studio server, charts their"
    "annotation progress and runs a built-in text classification ML backend"
    "that speaks Label Studio's ML backend protocol. The backend also runs"
    "without a window (loopdeck serve), e.g. as a systemd user service.")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "LoopDeck")
set(CPACK_PACKAGE_EXECUTABLES loopdeck "LoopDeck") # Start menu entry (NSIS)
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_CURRENT_LIST_DIR}/copyright)
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build/" "/\\\\.git" "/\\\\.venv")

if(WIN32)
    set(CPACK_GENERATOR NSIS ZIP)
    set(CPACK_NSIS_DISPLAY_NAME "LoopDeck")
    set(CPACK_NSIS_PACKAGE_NAME "LoopDeck ${PROJECT_VERSION}")
    set(CPACK_NSIS_INSTALLED_ICON_NAME bin/loopdeck.exe)
    set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
    set(CPACK_NSIS_MODIFY_PATH ON) # offers to put bin/ on PATH for `loopdeck serve`
    # Rendered from the SVG by scripts/render-icons.sh (committed).
    set(CPACK_NSIS_MUI_ICON ${PROJECT_SOURCE_DIR}/resources/icons/loopdeck.ico)
    set(CPACK_NSIS_MUI_UNIICON ${PROJECT_SOURCE_DIR}/resources/icons/loopdeck.ico)
elseif(APPLE)
    set(CPACK_GENERATOR DragNDrop)
    set(CPACK_DMG_VOLUME_NAME "LoopDeck")
    set(CPACK_DMG_FORMAT UDZO)
else()
    set(CPACK_GENERATOR DEB TGZ)
    # "loopdeck" (desktop) or "loopdeck-headless" (LOOPDECK_GUI=OFF, for servers); one replaces
    # the other since both ship /usr/bin/loopdeck.
    set(CPACK_DEBIAN_PACKAGE_NAME ${LOOPDECK_DEB_NAME})
    if(LOOPDECK_GUI)
        set(CPACK_DEBIAN_PACKAGE_CONFLICTS loopdeck-headless)
    else()
        set(CPACK_DEBIAN_PACKAGE_CONFLICTS loopdeck)
    endif()
    set(CPACK_DEBIAN_PACKAGE_REPLACES ${CPACK_DEBIAN_PACKAGE_CONFLICTS})
    set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # loopdeck_<version>-<release>_<arch>.deb
    # Keep in step with the version line of packaging/changelog.Debian.in.
    set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
    set(CPACK_DEBIAN_PACKAGE_SECTION science)
    set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
    # Depends from the binary's real shared-library needs (dpkg-shlibdeps, in dpkg-dev) ...
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
    # ... plus the Qt plugins loaded at run time, which dpkg-shlibdeps cannot see: the SQLite
    # driver of the store (progress history, used by the window and the loop) and, for the
    # window, the SVG icon engine.
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite")
    # The PostgreSQL driver, for `serve --store postgresql://...` (replicas); without it that
    # option says which package to install.
    set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libqt6sql6-psql")
    if(LOOPDECK_GUI)
        string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libqt6svg6")
        string(APPEND CPACK_DEBIAN_PACKAGE_RECOMMENDS ", qt6-translations-l10n, qt6-wayland")
        set(CPACK_DEBIAN_PACKAGE_SUGGESTS "fonts-noto-cjk")
    endif()
endif()
include(CPack)
