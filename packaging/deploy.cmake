# Windows and macOS desktop packaging of the `loopdeck` target, included from app/CMakeLists.txt
# (only there, only with LOOPDECK_GUI). Follows packaging/README.md; NOT verified on Windows or
# macOS yet — only the Linux .deb is built and tested (scripts/package-check.sh).
set(loopdeck_svg ${PROJECT_SOURCE_DIR}/resources/icons/loopdeck.svg)

if(APPLE)
    # LoopDeck.app/Contents/MacOS/LoopDeck; Info.plist from packaging/macos/Info.plist.in.
    set_target_properties(loopdeck PROPERTIES
        OUTPUT_NAME LoopDeck
        MACOSX_BUNDLE_INFO_PLIST ${PROJECT_SOURCE_DIR}/packaging/macos/Info.plist.in
        MACOSX_BUNDLE_GUI_IDENTIFIER io.github.loopdeck.LoopDeck
        MACOSX_BUNDLE_BUNDLE_NAME LoopDeck
        MACOSX_BUNDLE_BUNDLE_VERSION ${PROJECT_VERSION}
        MACOSX_BUNDLE_SHORT_VERSION_STRING ${PROJECT_VERSION}
        MACOSX_BUNDLE_COPYRIGHT "© 2026 The LoopDeck authors"
        MACOSX_BUNDLE_ICON_FILE loopdeck.icns)
    # loopdeck.icns from the SVG: rsvg-convert (Homebrew librsvg) renders an .iconset with the
    # ten sizes macOS wants, iconutil (Xcode command line tools) packs it.
    find_program(LOOPDECK_RSVG_CONVERT rsvg-convert)
    find_program(LOOPDECK_ICONUTIL iconutil)
    if(LOOPDECK_RSVG_CONVERT AND LOOPDECK_ICONUTIL)
        set(iconset ${CMAKE_CURRENT_BINARY_DIR}/loopdeck.iconset)
        set(icns ${CMAKE_CURRENT_BINARY_DIR}/loopdeck.icns)
        set(render_commands)
        foreach(size 16 32 128 256 512)
            math(EXPR double "${size} * 2")
            list(APPEND render_commands
                COMMAND ${LOOPDECK_RSVG_CONVERT} -w ${size} -h ${size} -o ${iconset}/icon_${size}x${size}.png ${loopdeck_svg}
                COMMAND ${LOOPDECK_RSVG_CONVERT} -w ${double} -h ${double} -o ${iconset}/icon_${size}x${size}@2x.png ${loopdeck_svg})
        endforeach()
        add_custom_command(OUTPUT ${icns}
            COMMAND ${CMAKE_COMMAND} -E make_directory ${iconset}
            ${render_commands}
            COMMAND ${LOOPDECK_ICONUTIL} -c icns -o ${icns} ${iconset}
            DEPENDS ${loopdeck_svg}
            COMMENT "Rendering loopdeck.icns" VERBATIM)
        target_sources(loopdeck PRIVATE ${icns})
        set_source_files_properties(${icns} PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
    else()
        message(WARNING "rsvg-convert or iconutil not found: LoopDeck.app will have no icon "
                        "(brew install librsvg; xcode-select --install)")
    endif()
endif()

if(WIN32)
    # Icon of loopdeck.exe (Explorer, taskbar): the committed resources/icons/loopdeck.ico made by
    # scripts/render-icons.sh; the NSIS installer uses it too (CPackConfig.cmake).
    set(rc ${CMAKE_CURRENT_BINARY_DIR}/loopdeck_icon.rc)
    file(TO_NATIVE_PATH ${PROJECT_SOURCE_DIR}/resources/icons/loopdeck.ico ico_native)
    string(REPLACE "\\" "\\\\" ico_native "${ico_native}")
    file(WRITE ${rc} "IDI_ICON1 ICON \"${ico_native}\"\n")
    target_sources(loopdeck PRIVATE ${rc})
    # DLLs that windeployqt does not copy because they are not Qt's: qt6keychain.dll,
    # e.g. from vcpkg's installed/x64-windows/bin. List them here.
    set(LOOPDECK_EXTRA_RUNTIME_FILES "" CACHE STRING
        "Windows: non-Qt DLLs to install next to loopdeck.exe (semicolon-separated paths)")
    if(LOOPDECK_EXTRA_RUNTIME_FILES)
        install(FILES ${LOOPDECK_EXTRA_RUNTIME_FILES} DESTINATION bin)
    endif()
endif()

# Qt's deployment at install time, so that `cpack` packs a self-contained app: windeployqt
# next to bin/loopdeck.exe (plus qt.conf), macdeployqt into LoopDeck.app. The Qt 6.4 form of the
# command (FILENAME_VARIABLE; Qt 6.5 prefers OUTPUT_SCRIPT and lists FILENAME_VARIABLE as
# deprecated — switch when the minimum Qt moves past 6.4).
qt_generate_deploy_app_script(TARGET loopdeck FILENAME_VARIABLE loopdeck_deploy_script
                              NO_UNSUPPORTED_PLATFORM_ERROR)
install(SCRIPT ${loopdeck_deploy_script})
